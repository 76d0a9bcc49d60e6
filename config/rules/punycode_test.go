package rules_test

import (
	"testing"

	"github.com/invoiceform/invoiceform/config/rules"
)

// TestPunycodeLen checks the encoder behind the DNS length limits against the sample strings
// of RFC 3492 §7.1 and a few more; only the length of the encoding is computed.
func TestPunycodeLen(t *testing.T) {
	tests := []struct{ label, encoded string }{
		{"ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"},
		{"他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"},
		{"Pročprostěnemluvíčesky", "Proprostnemluvesky-uyb24dma41a"},
		{"למההםפשוטלאמדבריםעברית", "4dbcagdahymbxekheh6e0a7fei0b"},
		{"почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},
		{"PorquénopuedensimplementehablarenEspañol", "PorqunopuedensimplementehablarenEspaol-fmd56a"},
		{"TạisaohọkhôngthểchỉnóitiếngViệt", "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g"},
		{"3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"},
		{"安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"},
		{"Hello-Another-Way-それぞれの場所", "Hello-Another-Way--fc4qua05auwb3674vfr0b"},
		{"ひとつ屋根の下2", "2-u9tlzr9756bt3uc0v"},
		{"MajiでKoiする5秒前", "MajiKoi5-783gue6qz075azm5e"},
		{"パフィーdeルンバ", "de-jg4avhby1noc0d"},
		{"そのスピードで", "d9juau41awczczp"},
		{"münchen", "mnchen-3ya"},
		{"bücher", "bcher-kva"},
		{"ü", "tda"},
		{"\U0001F600\U0001F601x", "x-iv3sda"},
	}
	for _, tt := range tests {
		if got := rules.PunycodeLen(tt.label); got != len(tt.encoded) {
			t.Errorf("PunycodeLen(%q) = %d, want %d (%q)", tt.label, got, len(tt.encoded), tt.encoded)
		}
	}
}
