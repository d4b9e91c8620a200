package main

import (
	"strings"

	"github.com/patentledger/ledger/domain"
)

// This file holds the fixed vocabulary of the demo data set: the
// organisations and the technical fields the patent titles, abstracts and
// IPC codes are composed from. demo.go combines them with a seeded random
// source.

// demoOrg is an organisation of the demo. Its credit code is generated
// (with a valid check character) from prefix and a seeded random tail.
type demoOrg struct {
	name   string
	kind   domain.OrgKind
	region string
	sme    bool
	// prefix is the first 8 characters of the credit code: the
	// registration department and type (12 public institution, 91
	// enterprise, 11 government organ) and the registration authority's
	// region code.
	prefix string
	// fields are the keys of the technical fields the organisation works
	// in: its own patents come from them and it licenses mostly in them.
	fields []string
	// weight is the organisation's share of the demo's patents (0 for
	// none).
	weight int
}

// demoOrgs are the organisations, in registration order. Universities sit in
// 天河 (440106), 海珠 (440105) and 番禺 (440113, the Guangzhou Higher
// Education Mega Center); the enterprises are fictitious.
var demoOrgs = []demoOrg{
	{name: "华南理工大学", kind: domain.OrgUniversity, region: "440106", prefix: "12440000", weight: 48,
		fields: []string{"battery", "solid", "chip", "vision", "build", "antenna", "robot", "bioplastic"}},
	{name: "暨南大学", kind: domain.OrgUniversity, region: "440106", prefix: "12440000", weight: 24,
		fields: []string{"tcm", "gene", "vision", "water", "catalyst"}},
	{name: "华南师范大学", kind: domain.OrgUniversity, region: "440106", prefix: "12440000", weight: 20,
		fields: []string{"vision", "antenna", "optics", "battery"}},
	{name: "中山大学", kind: domain.OrgUniversity, region: "440105", prefix: "12100000", weight: 34,
		fields: []string{"gene", "tcm", "chip", "water", "vision", "optics"}},
	{name: "广州大学", kind: domain.OrgUniversity, region: "440113", prefix: "12440100", weight: 18,
		fields: []string{"build", "water", "drone", "catalyst"}},
	{name: "广东工业大学", kind: domain.OrgUniversity, region: "440113", prefix: "12440000", weight: 22,
		fields: []string{"robot", "drone", "chip", "charging", "hvac"}},
	{name: "广州中医药大学", kind: domain.OrgUniversity, region: "440113", prefix: "12440000", weight: 12,
		fields: []string{"tcm"}},
	{name: "中国科学院广州能源研究所", kind: domain.OrgResearchInstitute, region: "440106", prefix: "12100000", weight: 16,
		fields: []string{"battery", "solid", "catalyst", "charging"}},

	{name: "广州锂想新能源科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440113", prefix: "91440101", weight: 8,
		fields: []string{"battery", "solid"}},
	{name: "广州穗芯微电子科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440106", prefix: "91440101", weight: 7,
		fields: []string{"chip"}},
	{name: "广州天瞳智能科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440106", prefix: "91440106", weight: 6,
		fields: []string{"vision", "optics"}},
	{name: "广州珠水环保科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440105", prefix: "91440105", weight: 7,
		fields: []string{"water", "catalyst"}},
	{name: "广州本草源生物科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440113", prefix: "91440113", weight: 6,
		fields: []string{"tcm"}},
	{name: "广州固源能源科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440106", prefix: "91440101", weight: 5,
		fields: []string{"solid", "battery", "charging"}},
	{name: "广州筑新建材科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440113", prefix: "91440113", weight: 7,
		fields: []string{"build"}},
	{name: "广州云翼无人机科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440113", prefix: "91440101", weight: 6,
		fields: []string{"drone", "optics"}},
	{name: "广州星联通信科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440106", prefix: "91440106", weight: 6,
		fields: []string{"antenna"}},
	{name: "广州基准生物科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440105", prefix: "91440101", weight: 6,
		fields: []string{"gene"}},
	{name: "广州智驱机器人科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440113", prefix: "91440113", weight: 6,
		fields: []string{"robot", "hvac"}},
	{name: "广州绿源新材料科技有限公司", kind: domain.OrgEnterprise, sme: true, region: "440105", prefix: "91440105", weight: 6,
		fields: []string{"bioplastic", "catalyst"}},

	{name: "广州粤驰新能源汽车集团股份有限公司", kind: domain.OrgEnterprise, region: "440113", prefix: "91440101", weight: 16,
		fields: []string{"battery", "charging", "solid", "robot"}},
	{name: "广州南方电子信息产业集团有限公司", kind: domain.OrgEnterprise, region: "440106", prefix: "91440101", weight: 14,
		fields: []string{"chip", "antenna", "vision", "hvac"}},

	{name: "中国工商银行股份有限公司广州分行", kind: domain.OrgBank, region: "440104", prefix: "91440101"},
	{name: "招商银行股份有限公司广州分行", kind: domain.OrgBank, region: "440106", prefix: "91440101"},

	{name: "广州市市场监督管理局（广州市知识产权局）", kind: domain.OrgRegulator, region: "440100", prefix: "11440100"},
}

// Names of the organisations that receive the demo's API keys, one per
// role.
const (
	demoKeyUniversity = "华南理工大学"
	demoKeySME        = "广州锂想新能源科技有限公司"
	demoKeyBank       = "中国工商银行股份有限公司广州分行"
	demoKeyRegulator  = "广州市市场监督管理局（广州市知识产权局）"
)

// techField is a technical field: the words patent titles and abstracts
// are made of, the IPC groups (all in the embedded IPC 2016.01 list) and a
// Locarno class for designs. Lists are "|"-separated to keep them compact;
// each entry carries its own description so that abstracts match titles.
type techField struct {
	key     string
	name    string
	ipc     string // the first three are the field's main groups
	locarno string
	// materials are "name@how it is made, and the effect": they make
	// "一种…的制备方法", "一种…及其制备方法" and "一种…及其应用" titles.
	materials string
	// methods are "name@how it works, and the effect@techniques": they make
	// "一种…" titles and, with one of the "/"-separated techniques,
	// "基于…的…" titles.
	methods string
	// devices are utility-model subjects, "name@IPC group"; designs are
	// design products.
	devices string
	designs string
}

func demoSplit(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

var demoFields = []techField{
	{key: "battery", name: "锂电池", ipc: "H01M 10/0525|H01M 4/525|H01M 4/36|H01M 10/48|H01M 10/42", locarno: "13-02",
		materials: "高镍三元正极材料@通过共沉淀法合成前驱体并进行两段式烧结，所得材料的振实密度和循环稳定性显著提高|" +
			"硅碳复合负极材料@以多孔碳骨架负载纳米硅并包覆无定形碳层，缓解了硅的体积膨胀，首次库伦效率达到88%以上|" +
			"磷酸锰铁锂正极材料@采用液相法合成并进行碳包覆，提高了材料的电子电导率与压实密度|" +
			"锂离子电池电解液添加剂@在电解液中引入含硼成膜添加剂，在正负极表面形成稳定界面膜，抑制了高温产气|" +
			"陶瓷涂覆隔膜@在聚烯烃基膜表面涂覆勃姆石与粘结剂浆料，提高了隔膜的耐热性与电解液浸润性|" +
			"富锂锰基正极材料@在材料颗粒表面原位构建尖晶石相包覆层，抑制了电压衰减，提高了循环稳定性",
		methods: "锂离子电池健康状态估计方法@利用充电片段的电压、电流与温度数据提取健康因子并建立估计模型，估计误差小于2%@扩展卡尔曼滤波/迁移学习/高斯过程回归|" +
			"电池包热失控预警方法@融合电芯温度、电压与气体传感器信号识别热失控前兆，可提前数分钟发出预警@多源信息融合/长短期记忆网络|" +
			"动力电池梯次利用筛选方法@根据容量、内阻与自放电率对退役电池快速分选重组，提高了梯次电池包的一致性@电化学阻抗谱/聚类分析|" +
			"储能电池均衡管理系统@以主动均衡电路在电芯间转移能量，提高了电池组的可用容量@模型预测控制",
		devices: "电池模组固定支架@H01M 2/10|软包电池极耳焊接夹具@B23K 37/04|电池包液冷板@H01M 10/6556|储能电池柜散热结构@H01M 10/613|电芯注液装置@H01M 2/36|极片辊压装置@H01M 4/04",
		designs: "储能电池柜|便携式储能电源|电动自行车电池包"},
	{key: "solid", name: "固态电解质", ipc: "H01M 10/0562|H01M 10/0565|H01M 10/0585|H01M 4/62", locarno: "13-02",
		materials: "硫化物固态电解质@以机械球磨结合低温热处理制备电解质粉体，室温离子电导率达到10⁻³ S/cm量级|" +
			"石榴石型氧化物固态电解质@通过镓、钽共掺杂稳定立方相并经热压烧结致密化，提高了离子电导率和对锂稳定性|" +
			"聚合物-陶瓷复合固态电解质膜@将陶瓷填料均匀分散于聚合物基体并原位交联，兼具柔韧性与较高的离子电导率|" +
			"卤化物固态电解质@以液相法低温合成，对高电压正极稳定，适配高镍正极材料|" +
			"锂金属负极界面修饰层@在锂金属表面构建富含氟化锂的人工界面层，有效抑制了锂枝晶生长",
		methods: "全固态电池的叠片制备方法@在恒定堆叠压力下完成正极、电解质与负极的一体化成型，减少了层间孔隙、降低了界面阻抗@等静压成型|" +
			"固态电解质膜的连续化成型方法@以流延与热压相结合的方式连续制备电解质膜，膜厚均匀、可卷对卷生产@干法成膜/流延成型|" +
			"固态电池界面阻抗的测试方法@以三电极体系结合弛豫时间分布分析分离体相阻抗与界面阻抗，测试重复性好@电化学阻抗谱",
		devices: "固态电池加压测试模具@G01R 31/36|固态电解质压片装置@B30B 11/02|全固态软包电池夹具@H01M 10/04",
		designs: "固态电池测试模具"},
	{key: "chip", name: "芯片封装", ipc: "H01L 23/31|H01L 21/56|H01L 23/367|H01L 25/065|H01L 23/48", locarno: "13-03",
		materials: "扇出型晶圆级封装结构@在重布线层中设置应力缓冲结构，降低了封装翘曲并提高了良率|" +
			"低应力环氧塑封料@以改性环氧树脂与球形硅微粉复配并加入应力释放剂，降低了固化收缩与内应力|" +
			"高导热芯片粘接材料@以纳米银烧结形成连续导热通路，导热系数超过150 W/(m·K)|" +
			"三维堆叠封装结构@以硅通孔实现芯片的垂直互连，缩短了互连长度、提高了信号传输速率|" +
			"铜柱凸点@采用电镀工艺形成高深宽比铜柱并覆盖焊料帽，满足细间距倒装焊要求",
		methods: "芯片封装翘曲的预测方法@建立考虑材料黏弹性的有限元模型预测翘曲，预测误差小于10%@有限元仿真/代理模型|" +
			"多芯片模组的散热设计方法@以热阻网络模型快速评估多芯片布局的温度分布，缩短了散热设计周期@热阻网络/拓扑优化|" +
			"系统级封装的信号完整性仿真方法@对互连结构进行三维电磁仿真并提取寄生参数，提高了信号完整性分析的准确性@三维电磁仿真|" +
			"晶圆临时键合与解键合方法@以激光响应层实现薄晶圆的低应力解键合，提高了超薄晶圆加工的良率@激光解键合",
		devices: "芯片封装散热盖板@H01L 23/40|引线框架@H01L 23/495|晶圆级封装用载板@H01L 21/673|功率模块封装外壳@H01L 23/04|芯片测试插座@G01R 1/04",
		designs: "功率模块外壳|芯片测试座"},
	{key: "vision", name: "图像识别", ipc: "G06K 9/62|G06K 9/00|G06T 7/00|G06N 3/08|G06N 3/04", locarno: "16-01",
		methods: "工业零件表面缺陷检测方法@构建多尺度特征融合网络并引入通道注意力模块，提高了微小缺陷的检出率@卷积神经网络/注意力机制/小样本学习|" +
			"行人重识别方法@提取行人的全局与局部特征并进行跨摄像头匹配，提高了遮挡场景下的识别准确率@Transformer/度量学习|" +
			"遥感图像地物分类方法@融合多光谱与高分辨率影像的特征进行像素级分类，提高了地物分类精度@语义分割网络/注意力机制|" +
			"车牌识别系统@对车牌区域进行定位、矫正与字符识别，适应夜间与倾斜等复杂场景@卷积神经网络|" +
			"病理切片图像分割方法@对全切片图像分块推理并融合上下文信息，减少了病理医生的阅片工作量@弱监督学习/图神经网络|" +
			"人脸活体检测方法@结合纹理与深度线索判别真人与攻击样本，模型参数量小，可部署于移动终端@知识蒸馏/卷积神经网络|" +
			"农作物病害识别方法@以少量标注样本结合自监督预训练训练识别模型，田间拍摄即可识别常见病害@小样本学习/迁移学习",
		devices: "智能识别摄像终端@H04N 5/225|工业视觉检测工作台@G01N 21/88|图像采集补光装置@G03B 15/02",
		designs: "智能识别摄像机|视觉检测终端"},
	{key: "tcm", name: "中药提取", ipc: "A61K 36/00|A61K 36/258|A61K 36/537|A61K 36/48|A61P 1/16|A61P 29/00", locarno: "07-02",
		materials: "三七总皂苷提取物@以乙醇回流提取后经大孔树脂富集皂苷类成分，有效成分转移率高、批次间质量稳定|" +
			"丹参酮纳米混悬剂@以高压均质法制备纳米混悬剂，提高了丹参酮的溶出度与生物利用度|" +
			"黄芪多糖@经水提醇沉、脱蛋白与柱层析纯化，多糖纯度达到90%以上|" +
			"广藿香挥发油包合物@采用超临界二氧化碳萃取并以β-环糊精包合，提高了挥发油的稳定性|" +
			"岭南凉茶颗粒@以多味岭南药材按配伍比例提取浓缩后制粒，工艺绿色、溶剂残留低|" +
			"五指毛桃提取物@通过正交试验优化提取温度、时间与料液比，提高了主要活性成分的得率|" +
			"溪黄草保肝组合物@将溪黄草提取物与辅料按比例配伍，对化学性肝损伤具有保护作用|" +
			"化橘红黄酮提取物@以超声辅助提取结合聚酰胺柱纯化，黄酮含量高、色泽稳定",
		methods: "中药材指纹图谱质量评价方法@采集多批次药材的色谱数据建立共有模式并计算相似度，可快速判别药材的产地与质量等级@高效液相色谱/化学计量学|" +
			"中药提取过程在线监测方法@在提取工段设置近红外在线检测点实时监测有效成分含量，实现了提取终点的自动判断@近红外光谱/偏最小二乘回归",
		devices: "中药提取罐@B01D 11/02|中药饮片切制装置@B26D 1/00|多功能煎药装置@A61J 3/00",
		designs: "煎药机"},
	{key: "water", name: "污水处理", ipc: "C02F 1/00|C02F 3/30|C02F 9/00|C02F 1/44|C02F 3/32|C02F 3/28", locarno: "23-01",
		materials: "改性生物炭吸附材料@以农林废弃物为原料经热解与铁改性制备吸附剂，对磷与重金属的吸附容量大|" +
			"复合絮凝剂@将铁盐与有机高分子按比例复配，絮体大、沉降快、投加量少|" +
			"高效脱氮填料@以多孔陶粒负载硫铁复合电子供体，强化了低碳氮比污水的自养反硝化脱氮|" +
			"光催化降解膜@在多孔膜表面负载改性二氧化钛，可在可见光下降解难降解有机物并减轻膜污染",
		methods: "农村生活污水一体化处理工艺@将厌氧、缺氧与好氧单元耦合并设置内回流，出水稳定达到一级A标准@生物接触氧化/膜生物反应器|" +
			"黑臭水体原位修复方法@结合底泥原位钝化与生态浮床修复水体，见效快且不产生二次污染@微生物强化/生态浮床|" +
			"污水处理厂智能曝气控制方法@根据进水负荷与溶解氧实时调节曝气量，运行能耗降低约20%@模型预测控制/软测量|" +
			"垃圾渗滤液全量化处理方法@以厌氧、短程硝化反硝化与高级氧化组合处理渗滤液，实现了浓缩液零排放@厌氧氨氧化/高级氧化",
		devices: "一体化污水处理设备@C02F 9/00|微孔曝气装置@C02F 3/20|污泥脱水装置@C02F 11/12|河道漂浮物拦截装置@E02B 15/10|人工湿地布水装置@C02F 3/32",
		designs: "一体化污水处理设备"},
	{key: "build", name: "新型建材", ipc: "C04B 28/00|C04B 28/04|C04B 18/04|C04B 38/08|E04B 1/80|E04C 2/04", locarno: "25-01",
		materials: "建筑固废再生骨料混凝土@以建筑固废再生骨料替代部分天然骨料并掺入矿物掺合料，力学性能满足规范要求且成本降低|" +
			"轻质发泡混凝土@通过化学发泡与蒸压养护形成均匀闭孔结构，保温隔热性能好、自重轻|" +
			"超高性能混凝土@以优化颗粒级配并掺入钢纤维，抗压强度超过150 MPa|" +
			"磷石膏基胶凝材料@以工业副产磷石膏为主要原料并掺入复合激发剂，实现了固体废弃物的资源化利用|" +
			"相变储能石膏板@将微胶囊相变材料掺入石膏基体，提高了墙体的热惰性并降低了空调负荷",
		methods: "装配式墙板的干式连接方法@在墙板内部预埋连接件实现干式拼装，施工速度快、现场湿作业少@BIM深化设计|" +
			"再生骨料的分级强化方法@对再生骨料进行浸渍强化与分级筛分，降低了吸水率并提高了强度@碳化养护|" +
			"混凝土构件的碳化养护方法@以二氧化碳养护预制构件，缩短了养护周期并固定了二氧化碳@碳化养护",
		devices: "装配式保温墙板@E04B 1/76|预制叠合楼板@E04B 5/04|轻质隔墙板@E04C 2/04|透水砖铺装结构@E01C 5/00|建筑外墙防水构造@E04B 1/64",
		designs: "透水砖|装饰墙板"},
	{key: "drone", name: "无人机", ipc: "B64C 39/02|B64D 47/08|B64C 27/08|G05D 1/10|B64D 1/18", locarno: "12-07",
		methods: "无人机集群协同路径规划方法@采用分层规划为各机分配任务并在线避障重规划，提高了集群作业效率@强化学习/一致性算法|" +
			"无人机电力巡检缺陷识别方法@对巡检图像中的绝缘子、金具等部件进行定位与缺陷识别，减少了人工复核工作量@卷积神经网络/目标检测|" +
			"植保无人机变量喷洒控制方法@根据作业地块的处方图在线调整喷洒流量，药液利用率高@北斗高精度定位/处方图|" +
			"无人机自主精准降落方法@融合视觉、惯性与卫星定位信息估计相对位姿，实现了移动平台上的精准降落@视觉SLAM/多传感器融合",
		devices: "无人机折叠机臂@B64C 1/30|无人机云台减震装置@B64D 47/08|植保无人机喷洒系统@B64D 1/18|无人机快换电池结构@B64D 27/24|无人机起落架@B64C 25/32",
		designs: "植保无人机|航拍无人机"},
	{key: "antenna", name: "5G天线", ipc: "H01Q 1/38|H01Q 1/22|H01Q 1/24|H01Q 21/00|H01Q 1/50|H01Q 9/04|H01Q 21/06", locarno: "14-03",
		methods: "5G毫米波阵列天线的波束赋形方法@根据用户方位实时计算各阵元的幅度与相位加权，提高了波束指向精度与边缘速率@码本优化/深度学习|" +
			"宽带双极化基站天线@在辐射贴片下方加载寄生单元以展宽带宽，阻抗带宽覆盖n77/n78/n79频段@超表面/特征模理论|" +
			"终端多天线去耦方法@在相邻天线间引入中和线与缺陷地结构，隔离度提高10 dB以上@特征模理论|" +
			"毫米波封装天线@将天线阵列与射频芯片集成于同一封装基板，结构紧凑、便于批量加工@低温共烧陶瓷/介质集成波导",
		devices: "5G小基站天线罩@H01Q 1/42|宽带双极化辐射单元@H01Q 21/24|天线阵列馈电网络@H01Q 21/00|手机天线支架@H01Q 1/12",
		designs: "5G小基站|室内分布天线"},
	{key: "gene", name: "基因检测", ipc: "C12Q 1/68|C12N 15/11|G01N 33/574|C12N 15/10|C12Q 1/70", locarno: "24-02",
		materials: "检测肺癌相关基因突变的引物组@针对EGFR、KRAS等基因热点区域设计特异性引物与荧光探针，检测灵敏度高、特异性好|" +
			"鼻咽癌EB病毒DNA检测试剂盒@以实时荧光定量PCR检测血浆中的EB病毒DNA载量，适用于高发区人群筛查|" +
			"循环肿瘤DNA富集探针@以多重PCR扩增结合杂交捕获富集目标片段，一次检测可覆盖数十个位点|" +
			"地中海贫血基因分型试剂盒@以反向点杂交一次检出华南地区常见的缺失型与点突变型，适合基层医疗机构推广|" +
			"呼吸道病原体多重检测引物探针组合@优化多重反应体系，1小时内可同时检出十余种呼吸道病原体",
		methods: "基因突变检测的生物信息分析方法@对测序数据进行比对、变异识别与注释，可检出丰度低至0.1%的突变@高通量测序/机器学习|" +
			"肿瘤早筛的甲基化标志物筛选方法@结合血浆游离DNA甲基化测序数据构建分类模型，对早期肿瘤具有较高的检出率@甲基化测序/机器学习",
		devices: "核酸提取仪加热模块@B01L 7/00|微流控检测芯片@B01L 3/00|样本采集管@A61B 10/00",
		designs: "核酸检测仪"},
	{key: "charging", name: "新能源汽车充电", ipc: "B60L 11/18|H02J 7/00|H02J 7/02|H01M 10/44", locarno: "13-03",
		methods: "电动汽车有序充电调度方法@根据配电网负荷与用户出行需求优化充电功率分配，削减了配电网峰值负荷@负荷预测/模型预测控制|" +
			"充电桩故障诊断方法@采集充电过程的电压电流波形识别故障类型，提高了故障定位的准确性@小波分析/随机森林|" +
			"光储充一体化能量管理方法@协调光伏出力、储能充放电与充电负荷，降低了用户充电成本@模型预测控制/负荷预测|" +
			"换电站电池调度方法@根据换电需求预测安排电池充电次序，提高了换电站的服务能力@需求预测/整数规划",
		devices: "充电桩散热结构@H05K 7/20|充电枪锁止装置@H01R 13/639|充电电缆收纳装置@H02G 11/02|无线充电线圈组件@H01F 38/14",
		designs: "交流充电桩|直流充电桩"},
	{key: "robot", name: "工业机器人", ipc: "B25J 9/16|G05B 19/418|B25J 15/00|B25J 19/00", locarno: "15-99",
		methods: "机械臂轨迹规划方法@在关节空间内以时间最优为目标规划平滑轨迹，提高了节拍效率并减小了振动@样条插值/优化算法|" +
			"柔性生产线调度方法@以数字孪生模型预演产线调度方案，缩短了产线换型时间@数字孪生/遗传算法|" +
			"人机协作安全控制方法@基于关节力矩信息在线辨识碰撞并柔顺停机，保障了人机协作的安全性@阻抗控制/碰撞检测|" +
			"机器人手眼标定方法@以标定板多位姿图像求解相机与末端的相对位姿，提高了视觉定位精度@视觉伺服",
		devices: "机器人末端快换夹爪@B25J 15/04|协作机器人关节模组@B25J 17/00|搬运机器人底盘@B25J 5/00|焊接机器人防护装置@B25J 19/06",
		designs: "协作机器人|搬运机器人"},
	{key: "catalyst", name: "废气催化净化", ipc: "B01D 53/86|B01J 23/00|B01D 53/94|B01J 35/00|B01J 37/02", locarno: "23-04",
		materials: "低温脱硝催化剂@以浸渍法将锰铈活性组分负载于改性载体，在低温下即具有较高的脱硝效率|" +
			"VOCs催化燃烧催化剂@通过调控载体孔结构提高活性位点分散度，抗硫抗水性能好、使用寿命长|" +
			"分子筛吸附材料@以疏水改性分子筛吸附低浓度有机废气，吸附容量大、可反复再生",
		methods: "工业废气协同治理工艺@将吸附浓缩与催化燃烧串联运行，运行能耗低、净化效率高@吸附浓缩/催化燃烧|" +
			"催化剂失活的在线评估方法@根据进出口浓度与床层温度评估催化剂活性，可提前安排再生或更换@软测量",
		devices: "催化燃烧装置@F23G 7/06|废气吸附浓缩转轮@B01D 53/06|油烟净化装置@F24C 15/20",
		designs: "油烟净化器"},
	{key: "bioplastic", name: "生物可降解材料", ipc: "C08L 67/04|C08K 3/04|C08L 67/02|C08J 5/18|C08L 3/02", locarno: "07-01",
		materials: "聚乳酸/淀粉共混材料@以反应挤出方式引入增容剂改善两相界面，力学性能明显提高|" +
			"全生物降解地膜@以PBAT与聚乳酸共混吹膜，在田间使用期后可自然降解|" +
			"石墨烯增强聚乳酸复合材料@将少量石墨烯均匀分散于聚乳酸基体，提高了强度与阻隔性|" +
			"可降解快递包装薄膜@采用多层共挤工艺制备阻隔薄膜，在堆肥条件下180天内基本完全降解|" +
			"耐热聚乳酸餐具材料@添加成核剂并经热处理提高结晶度，耐热温度提高至100 ℃以上",
		methods: "可降解材料降解性能的评价方法@在模拟堆肥条件下测定二氧化碳释放量计算生物降解率，结果与标准方法吻合良好@呼吸计量法",
		devices: "可降解餐盒成型模具@B29C 45/26|吹膜机冷却风环@B29C 47/88",
		designs: "可降解餐盒|可降解吸管"},
	{key: "optics", name: "光谱检测", ipc: "G01N 21/65|G01N 21/64|G01N 21/01", locarno: "10-04",
		materials: "表面增强拉曼散射基底@以金纳米颗粒自组装阵列构建增强热点，检出限达到ppb级|" +
			"比率型荧光探针@合成具有聚集诱导发光特性的荧光分子，以比率信号消除背景干扰",
		methods: "农药残留快速检测方法@以表面增强拉曼光谱结合化学计量学建立定量模型，现场检测无需复杂前处理@表面增强拉曼光谱/化学计量学|" +
			"水体重金属荧光检测方法@以比率荧光信号定量水中的重金属离子，检测结果稳定可靠@时间分辨荧光|" +
			"食用油掺伪鉴别方法@采集样品的光谱指纹并建立判别模型，可在数分钟内完成鉴别@近红外光谱/化学计量学",
		devices: "激光雷达扫描装置@G01S 7/481|便携式拉曼光谱仪@G01J 3/44|荧光检测暗箱@G01N 21/64",
		designs: "便携式检测仪|车载激光雷达"},
	{key: "hvac", name: "智能空调", ipc: "F24F 11/00|F24F 1/00|F24F 13/00|F25B 13/00", locarno: "23-04",
		methods: "空调系统的节能控制方法@根据负荷预测优化冷水机组与水泵的运行参数，在保证舒适的前提下降低能耗约15%@负荷预测/强化学习|" +
			"空调送风控制方法@根据室内人员分布与热舒适指标调节送风温度与风向，提高了室内热舒适度@人体热舒适模型/红外感知|" +
			"多联机系统的故障诊断方法@分析压缩机与电子膨胀阀的运行数据识别故障类型，缩短了维修时间@数据驱动/支持向量机",
		devices: "空调室内机导风板@F24F 13/08|新风换气装置@F24F 7/08|空调冷凝水回收装置@F24F 13/22",
		designs: "空调室内机|新风机"},
}

// demoDeviceEffects are the effects utility-model abstracts name.
var demoDeviceEffects = []string{"提高了装配效率", "降低了维护成本", "提高了运行可靠性", "便于批量生产", "拆装方便、通用性好"}

// Free-text other terms of declarations; none may contain an advertising
// word (domain.PromotionalWord), which the loader checks before use.
var demoOtherTerms = []string{
	"被许可人可在中国大陆范围内实施本专利，不得转许可他人。",
	"许可费按声明标准支付，被许可人应于每年1月报送上一年度的实施情况。",
	"专利权人可应被许可人要求提供不超过5个工作日的技术培训，费用另议。",
	"许可期限内专利权被宣告无效的，已支付的许可费不予退还。",
	"被许可人实施本专利生产的产品应标注专利号。",
	"",
}

// Reasons given for withdrawals, transfers and status changes.
var (
	demoWithdrawReasons = []string{
		"专利权人调整许可费标准，将以新条件重新声明",
		"专利权人拟转让本专利，撤回开放许可声明",
		"技术方案已升级，原声明不再适用",
		"根据学校成果转化工作安排撤回",
	}
	demoReviewNotes = map[domain.Disposition][]string{
		domain.DispositionOpenLicense: {"技术成熟度较高，适合以开放许可方式推广", "已有多家企业咨询，建议纳入开放许可"},
		domain.DispositionLicense:     {"已有意向企业，建议协商普通许可", "适合与龙头企业开展定向许可"},
		domain.DispositionTransfer:    {"与企业需求高度契合，建议转让", "企业有受让意向，建议作价转让"},
		domain.DispositionMaintain:    {"技术仍在迭代，建议继续维持", "具有防御价值，建议维持"},
		domain.DispositionAbandon:     {"市场前景有限，建议放弃维持", "技术已被替代，建议不再缴纳年费"},
	}
)
